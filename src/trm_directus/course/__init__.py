"""The course of an event (stages, segments, waypoints, speed zones): OpenRally GPX import and export."""
