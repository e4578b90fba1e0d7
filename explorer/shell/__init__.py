"""The app's frame around the pages: the sidebar (sidebar) and the projector's presentation mode (presentation)."""
