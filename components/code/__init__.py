"""The Code tab: the form as fal_client code, JSON and curl."""
