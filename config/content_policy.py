"""The Content-Security-Policy header, on the pages a browser shows.

django-csp builds the header from ``CONTENT_SECURITY_POLICY`` (settings); this
subclass of its middleware adds it to HTML answers only: a JSON, CSV or script
answer is not a document a browser runs, and building the header costs some 30 µs,
which the API's answers (a checkout's above all) are spared. The policy and what it
lets through are in docs/security.md.
"""

from csp.middleware import CSPMiddleware


class ContentSecurityPolicy(CSPMiddleware):
    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
