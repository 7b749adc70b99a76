"""What the customer clients (SDK, widget) need from the REST API: guest tokens and CORS."""
