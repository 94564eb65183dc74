"""`python -m dashboard [streamlit options]`: the dashboard server, warmed as it starts (`dashboard.launch`)."""

from dashboard.launch import main

main()
