"""The question-to-answer pipeline: the chat service, prompting, test-time reasoning and
the loaded local models."""
