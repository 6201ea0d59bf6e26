import streamlit as st

st.title("Live training")
st.info("Coming soon.")
