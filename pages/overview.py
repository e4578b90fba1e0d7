import streamlit as st

st.title("overview")
st.info("Under construction.")
