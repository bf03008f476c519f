"""PyInstaller runtime hook: runs in the frozen app before its entry point imports anything.

Sets every telemetry / hub-offline switch (app.privacy.telemetry.TELEMETRY_SWITCHES) in the
environment, so no bundled library (onnxruntime, chromadb's posthog, Hugging Face) can phone home
or reach a hub even if something imports it before the entry point's own secure_process() call.
Child processes (the document parse worker) inherit the switches.
"""

from app.privacy.telemetry import disable_telemetry  # pure: imports only `os`

disable_telemetry()
