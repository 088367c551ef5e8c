"""Differential runs of a program natively and under pylinuxabi (later issue)."""
