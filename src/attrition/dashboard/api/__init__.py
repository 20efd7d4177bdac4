"""The dashboard's way to the Attrition API: the client and the response models it returns."""
