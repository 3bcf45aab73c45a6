"""latentjax studio: a browser editor served from the process that holds the compiled generator.

`latentjax serve --model M` (needs the `studio` extra: FastAPI, uvicorn, python-multipart).
Modules: params (request parsing, pure), gate (device access), jobs (background work),
engine (the only one calling the rest of latentjax), app (HTTP), server (`serve`), static/ (the page).
Importing this package or the engine needs no web stack.
"""
