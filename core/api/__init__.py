"""The read-only HTTP API: what ``python -m core signals --json`` and ``models --json`` print,
over HTTP for another program (a decision engine, a notebook, a bot).

* :mod:`core.api.payloads`: the JSON of each answer, built once for the CLI and the API, so
  the two cannot drift apart.
* :mod:`core.api.app`: the routes (``GET /api/v1/...``), the access rule and the OpenAPI
  description, as a Starlette app that the dashboard's server mounts beside its pages
  (``streamlit_app.py``) and ``python -m core serve`` runs alone (uvicorn).

Nothing here starts a job, writes a file or changes a model: every route is a GET.
"""
