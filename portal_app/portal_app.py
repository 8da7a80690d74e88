# TEMPORARY infra smoke app written by the build/serve/test helper to verify the Makefile
# and tests/live_server.py. Replace freely: the real app module belongs to the app team.
import reflex as rx


class SmokeState(rx.State):
    cookie_seen: str = "pending"

    @rx.event
    def on_load(self):
        self.cookie_seen = "yes" if "=" in (self.router.headers.cookie or "") else "no"


def index() -> rx.Component:
    return rx.vstack(rx.heading("Portico smoke"), rx.text(SmokeState.cookie_seen, id="seen"))


app = rx.App()
app.add_page(index, route="/", on_load=SmokeState.on_load)
