"""The API's routes, one module per subject; `api.app` mounts them."""
