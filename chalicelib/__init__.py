"""Lambda-side code of the customer-service platform: one package per domain, composed in `services`."""
