"""links.ObjectLinks: the URL of many objects' pages, one reverse() per model."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase

from nautobot_contracts.links import ObjectLinks
from tests.factories import ContractFactory, ServiceProviderFactory


class _Target:
    def get_absolute_url(self):
        return "/somewhere/"


class ObjectLinksTest(TestCase):
    def test_same_urls_as_get_absolute_url(self):
        objects = [ContractFactory(), ContractFactory(), ServiceProviderFactory()]
        links = ObjectLinks(prefix="https://nautobot.example.com")
        with CaptureQueriesContext(connection) as queries:
            urls = [links(obj) for obj in objects]
        self.assertEqual(urls, [f"https://nautobot.example.com{obj.get_absolute_url()}" for obj in objects])
        self.assertEqual(len(queries), 0)
        self.assertEqual(len(links.patterns), 2)  # one pattern per model

    def test_objects_without_a_page_or_pk(self):
        links = ObjectLinks()
        self.assertEqual(links(None), "")
        self.assertEqual(links("a string"), "")
        self.assertEqual(links(_Target()), "/somewhere/")
