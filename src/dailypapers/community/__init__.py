"""Community: accounts, upvotes, comments, curation, submissions and rate limits.

Each module is one service over the narrow store protocols it declares; the composition root
(``dailypapers.app``) builds them with their collaborators (clock, hasher, mailer, arXiv client,
rate limiter) passed in.
"""
