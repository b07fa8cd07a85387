"""The course of an event (stages, segments, waypoints, speed zones): OpenRally GPX import and export.

Imports directus/, documents/, model/; imported by rules/ (radius defaults), seed/, commands/, bench/
and tests.
"""
