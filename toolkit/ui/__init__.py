"""`vtembed ui`: a local web page to search an archive and play the moments it finds.

A face on the Python API (`vtembed.api`), like the CLI: FastAPI, Jinja2 templates and one
small script, all shipped in this package (no CDN, no build step). See docs/ui.md.
"""
