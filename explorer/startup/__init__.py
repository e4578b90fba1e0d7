"""A server's start-up work: the heavy imports behind one lock (imports), the warm-up of the default model's caches
(warmup), the garbage-collector freeze after a page's first run (gc_freeze), the deep-link rerun (deep_link), what
each page's HTML head gets (page_head) and a first view's picture before the rest of its page (first_draw)."""
