import streamlit as st

st.set_page_config(page_title="seqgen", layout="wide")
st.title("seqgen")
st.write("A browser lab for recurrent GANs and VAEs.")
