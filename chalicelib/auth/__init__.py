"""Authentication of customers and agents by HS256 JWTs issued by the company's own backend."""
