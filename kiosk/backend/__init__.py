"""The credential backend: FastAPI service recording visits and issuing Wi-Fi credentials."""
