"""The officers' web page: server-rendered Jinja2 templates, one stylesheet, no build step."""
