"""`enclave serve`: Enclave's checked, cited answers as an OpenAI-compatible local API."""
