"""``manage.py seed_demo``: the demo network, a staff superuser, a store team with its
pickup queue, and a fresh API token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from demo.channels import demo_channels_build
from demo.counts import demo_counts_build
from demo.kits import demo_kits_build
from demo.network import (
    CHANNEL_TOKENS,
    demo_holds_build,
    demo_network_build,
    demo_stock_build,
)
from demo.pickup import demo_pickups_build, demo_staff_build
from demo.reconciliation import demo_reconciliation_build
from demo.returns import demo_returns_build
from demo.supply import TRY_PURCHASE_ORDER, demo_supply_build
from integrations.models import ApiToken
from integrations.services import api_token_create, api_token_reissue
from sync.services import sync_health_check

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "onestock-demo"
DEMO_TOKEN_NAME = "demo-integration"


class Command(BaseCommand):
    help = "Build the demo retail network; safe to run again (it updates, never duplicates)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where it serves."
        )

    def handle(self, *args, url: str, **options):
        with transaction.atomic():
            network = demo_network_build()
            stock = demo_stock_build()
            holds = demo_holds_build()
            self._ensure_staff_superuser()
            demo_staff_build(password=DEMO_PASSWORD)
            pickups = demo_pickups_build()
            returned = demo_returns_build()
            counted = demo_counts_build()
            disagreeing = demo_reconciliation_build()
            # Last: the protections it sets would otherwise stand in the holds' way.
            channels = demo_channels_build()
            # After the stores' stock and orders: it empties the distribution
            # centre's black M T-shirts onto the road and pre-orders them.
            supply = demo_supply_build()
            kits = demo_kits_build()
            # What /store/sync/ shows until beat measures it every minute.
            sources = sync_health_check()
            for name, channel_code in CHANNEL_TOKENS.items():
                live = ApiToken.objects.filter(name=name, revoked_at__isnull=True)
                if not live.exists():
                    api_token_create(name=name, channel_code=channel_code)
            # Only a digest of a token is stored, so each run issues a new one to print.
            _, raw_token = api_token_reissue(name=DEMO_TOKEN_NAME)
        api = url.rstrip("/") + "/api/v1/availability/?location=LON-OXF&channel=web"
        po, po_sku, po_location = TRY_PURCHASE_ORDER
        self.stdout.write(
            f"Demo network: {network.locations} locations, {network.channels} channels, "
            f"{network.products} products, {network.skus} SKUs.\n"
            f"Stock: {stock.entries} ledger entries ({stock.new_entries} new), "
            f"{stock.conflicts} new conflict(s) for a manager.\n"
            f"Reservations: {holds} new checkout hold(s) in every state.\n"
            f"Pickup: {pickups} new click-and-collect order(s) at LON-OXF.\n"
            f"Returns: {returned} new return(s) at LON-OXF, in every state.\n"
            f"Counts: {counted} new cycle count(s), two weeks of accuracy history.\n"
            f"Reconciliation: the tills' snapshot of LON-OXF compared, "
            f"{disagreeing} new disagreement(s) in the queue.\n"
            f"Sync: {len(sources)} source(s) measured; the change feed holds every "
            f"change above.\n"
            f"Channels: the marketplace sells from {' and '.join(channels.network)}, "
            f"{channels.protected_skus} T-shirt SKUs with units protected for it; the "
            f"app's {channels.velocity_buffers} buffers follow its rate of sale.\n"
            f"Supply: {supply.purchase_orders} purchase orders (one late), "
            f"{supply.transfers} transfers on the road, {supply.pre_orders} new web "
            f"pre-order(s) waiting for {po}; {supply.proposals} transfer "
            f"proposal(s) waiting at /store/transfers/ (as morgan).\n"
            f"Kits: {kits.kits} kits sold as one SKU (OUTFIT-BLA-M-32, "
            f"TEE-3PACK-WHI-M), {kits.holds} new web checkout hold(s) and "
            f"{kits.orders} new pickup order(s) of one.\n"
            f"\n"
            f"  URL:        {url}\n"
            f"  Login:      {DEMO_USERNAME} / {DEMO_PASSWORD}  (back-office admin)\n"
            f"  Store:      {url.rstrip('/')}/store/  as sam / {DEMO_PASSWORD} "
            f"(picker, Oxford Street), morgan / {DEMO_PASSWORD} (manager, every store)\n"
            f"  Returns:    {url.rstrip('/')}/store/returns/  (insight for managers: "
            f"{url.rstrip('/')}/store/returns/insight/)\n"
            f"  Exceptions: {url.rstrip('/')}/store/exceptions/  (counts: "
            f"{url.rstrip('/')}/store/counts/, accuracy: "
            f"{url.rstrip('/')}/store/accuracy/)\n"
            f"  Managers:   {url.rstrip('/')}/store/dashboard/  (runs: "
            f"{url.rstrip('/')}/store/reconciliation/, sync: "
            f"{url.rstrip('/')}/store/sync/, velocity buffers: "
            f"{url.rstrip('/')}/store/buffers/)\n"
            f"  Support:    {url.rstrip('/')}/store/support/  (an order's whole story, "
            "by its number, the customer's email or phone)\n"
            f"  API docs:   {url.rstrip('/')}/api/docs/\n"
            f"  API token:  {raw_token}\n"
            f"  Try:        curl -H 'Authorization: Token {raw_token}' '{api}'\n"
            f"  Feed:       curl -H 'Authorization: Token {raw_token}' "
            f"'{url.rstrip('/')}/api/v1/availability/changes/?channel=web&limit=5'\n"
            f"  Network:    curl -H 'Authorization: Token {raw_token}' "
            f"'{url.rstrip('/')}/api/v1/availability/network/"
            f"?sku=TEE-WHI-M&sku=TEE-BLA-M&channel=marketplace'\n"
            f"  Supply:     curl -H 'Authorization: Token {raw_token}' "
            f"'{url.rstrip('/')}/api/v1/availability/timeline/"
            f"?sku={po_sku}&location={po_location}&channel=web'  ({po}, "
            "pre-ordered: DEMO-PREORDER-1 in Support as morgan)\n"
        )

    def _ensure_staff_superuser(self) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            user = user_model(username=DEMO_USERNAME, email="admin@example.com")
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
