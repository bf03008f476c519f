"""What a person keeps: workspaces, their indexes, conversation history, ingesting documents,
exporting conversations."""
