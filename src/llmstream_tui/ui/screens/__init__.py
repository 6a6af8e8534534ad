"""Modal screens: help, events filter, ad hoc provider."""
