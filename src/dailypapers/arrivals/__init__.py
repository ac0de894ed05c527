"""Each day's arXiv arrivals, ranked by how likely this community is to put them on its list."""
