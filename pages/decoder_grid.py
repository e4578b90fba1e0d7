import streamlit as st

st.title("decoder_grid")
st.info("Under construction.")
