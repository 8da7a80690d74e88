"""Plain HTTP routes beside the Reflex pages and the API: portal links, console sign-in, security headers."""
