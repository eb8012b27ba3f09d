"""Plain-Python core of the councillors' social media assistant.

Corpus parsing, the passage index, search and answer formatting live here. Nothing in this
package imports Rasa, so it can be used from the command line and tested without servers.
"""
