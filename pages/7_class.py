"""Class: a teacher starts a class here and leads it from this console; students join with the code."""
import streamlit as st

from seqgen.ui import class_console, classroom
from seqgen.ui.i18n import _
from seqgen.ui.widgets import guard

st.title(_("Class"))
with guard(_("the Class page")):
    who = classroom.role()
    if who == "teacher":
        class_console.console()
    elif who == "student":
        classroom.student_home()
    else:
        classroom.show_note()
        st.markdown(_("A class is one room: the teacher's screen leads, every student's screen follows, and the "
                      "answers and drawings of the class gather on the teacher's screen. No account is needed and "
                      "nothing personal is kept."))
        with st.container(border=True, key="class_join"):
            st.subheader(_("Join a class"))
            st.text_input(_("Class code"), key=classroom.JOIN_CODE_KEY, max_chars=24, placeholder="K7QX3M")
            st.text_input(_("Nickname (optional)"), key=classroom.JOIN_NICK_KEY, max_chars=40,
                          help=_("Shown to your class. Leave it empty to be “Student 7”."))
            st.button(_("Join"), key="class_join_btn", type="primary", on_click=classroom.join,
                      icon=":material/login:")
        with st.container(border=True, key="class_start"):
            st.subheader(_("Teach a class"))
            st.caption(_("You get a short code, a join link with a QR code for your students, and a console with "
                         "their answers. Then open a lesson: every student's screen follows yours."))
            st.button(_("Start a class"), key="class_start_btn", on_click=classroom.start_class,
                      icon=":material/co_present:")
