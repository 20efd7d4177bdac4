"""The pages' pure parts, one module per page of ``dashboard/views`` with the same name:
tables, figures, parsing and checks, no Streamlit calls (so they are tested without it)."""
