"""Training from the sidebar: the form and its request (form), the one background job a server runs (job), and the
sidebar panel that starts, follows and cancels it (panel)."""
