"""Routing: internal department or administrative authority, which handler, who must
never see the case, and what material is missing. Rules are configuration."""
