"""Suppression: what holds or summarises notifications, not what groups members into incidents.

Matchers, silences, maintenance windows and inhibition (`rules`), flapping members, alert storms, their
configuration (`config`) and the engine's use of them on a scope's state (`guards`). Pure: event time is
passed in; reading the silences topic is the runtime's job.
"""
