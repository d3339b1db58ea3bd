"""Reports: verification (analytic vs measured, with a reason for every difference), the
memory report, views per command, renderers (table / json / csv / markdown), plots and
golden files.  Takes plain data from the other packages; reaches torch only lazily.
"""
