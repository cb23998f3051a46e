# base: solution
# status: limit
# score: full
# says: output limit
# A 20 MB HTML display: dropped past the output limit, never put into the report.
from IPython.display import display
display({"text/html": "<b>big</b>" * 2_000_000}, raw=True)
