"""product_pictures: several ordered pictures per product (the first is the cover), and archived products

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from uuid_utils.compat import uuid7

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_products = sa.table(
    "shop_product",
    sa.column("id", advanced_alchemy.types.guid.GUID(length=16)),
    sa.column("image_path", sa.String(200)),
)
_images = sa.table(
    "shop_product_image",
    sa.column("id", advanced_alchemy.types.guid.GUID(length=16)),
    sa.column("product_id", advanced_alchemy.types.guid.GUID(length=16)),
    sa.column("position", sa.Integer()),
    sa.column("path", sa.String(200)),
    sa.column("thumbnail_path", sa.String(200)),
)


def upgrade() -> None:
    op.create_table(
        "shop_product_image",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("product_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("thumbnail_path", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["shop_product.id"],
            name=op.f("fk_shop_product_image_product_id_shop_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_product_image")),
    )
    with op.batch_alter_table("shop_product_image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_product_image_product_id"), ["product_id"], unique=False)

    # A picture uploaded before this revision becomes the product's only one; it was never resized, so it is
    # its own thumbnail.
    bind = op.get_bind()
    pictured = bind.execute(
        sa.select(_products.c.id, _products.c.image_path).where(_products.c.image_path.is_not(None))
    )
    rows = [
        {"id": uuid7(), "product_id": product_id, "position": 0, "path": path, "thumbnail_path": path}
        for product_id, path in pictured
    ]
    if rows:
        op.bulk_insert(_images, rows)

    with op.batch_alter_table("shop_product", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archived_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True)
        )
        batch_op.drop_column("image_path")


def downgrade() -> None:
    with op.batch_alter_table("shop_product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_path", sa.String(length=200), nullable=True))
        batch_op.drop_column("archived_at")

    bind = op.get_bind()
    covers = bind.execute(
        sa.select(_images.c.product_id, _images.c.path).order_by(_images.c.product_id, _images.c.position.desc())
    )
    for product_id, path in covers:  # the last write per product is its lowest position: the cover
        bind.execute(_products.update().where(_products.c.id == product_id).values(image_path=path))

    with op.batch_alter_table("shop_product_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_product_image_product_id"))

    op.drop_table("shop_product_image")
