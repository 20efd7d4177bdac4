"""Page scripts run by ``st.navigation``; each renders when executed as ``__main__``.

One module per page, named like its pure part in :mod:`attrition.dashboard.panels`; this
side holds only the Streamlit calls (widgets, layout, session state).
"""
