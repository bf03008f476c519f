"""What only the desktop window needs: its facade over the app, and the worker process that
runs the search model and the indexes."""
