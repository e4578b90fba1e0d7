import streamlit as st

st.title("interpolation")
st.info("Under construction.")
