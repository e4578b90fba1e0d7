"""Session-state keys one page writes and another reads (a page's own keys stay in the page)."""

# The Draw page's current digit, (784,) as the model sees it, and where it came from ("drawing" or the uploaded
# file's name): the Repair page offers it beside the test digits.
DRAWN = "drawn_digit"
DRAWN_FROM = "drawn_digit_from"
