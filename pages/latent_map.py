import streamlit as st

st.title("latent_map")
st.info("Under construction.")
