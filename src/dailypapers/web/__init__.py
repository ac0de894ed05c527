"""The web layer: pages, JSON API, feeds (see routes.py for the route table)."""
