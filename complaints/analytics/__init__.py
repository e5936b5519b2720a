"""Regulator analytics: daily rollups kept by the tick, read by the analytics page."""
