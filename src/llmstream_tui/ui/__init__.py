"""The Textual app (``make_app``/``run_app`` in ``app.py``). Only this package imports Textual."""
