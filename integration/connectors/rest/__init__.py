"""REST/JSON connectors over HTTP (httpx): API key or OAuth2 client credentials, cursor pagination."""
