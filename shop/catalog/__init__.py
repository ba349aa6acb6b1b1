"""The catalog: categories and products, their images, and limited-time deals."""
