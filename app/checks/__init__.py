"""Checking an installation and its models: the evaluation harness and the self-test."""
