"""Which model a session shows: the checkpoint files (files), the key a run resolves (choice), the sidebar's
picker (picker) and the model kept in a page's link (link)."""
