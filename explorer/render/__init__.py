"""Code that draws and imports no Streamlit: Plotly figures, colours, styles, digit pictures, galleries, the map
overlay, the decoder grid's geometry and the reading of chart clicks."""
