"""gc_freeze.frozen_heap(): objects that exist on entry leave the collector's generations until the last block ends."""

import gc
from unittest import mock
import weakref

from django.test import SimpleTestCase
from nautobot.apps.jobs import Job

from nautobot_contracts.gc_freeze import frozen_heap
from nautobot_contracts.jobs.base import ContractsJob


class FrozenHeapTest(SimpleTestCase):
    def setUp(self):
        super().setUp()
        gc.unfreeze()  # a clean start, whatever another test left

    def test_freezes_inside_and_hands_back_on_exit(self):
        self.assertEqual(gc.get_freeze_count(), 0)
        with frozen_heap():
            frozen = gc.get_freeze_count()
            self.assertGreater(frozen, 1000)  # the loaded process: Django, Nautobot, the app
        self.assertEqual(gc.get_freeze_count(), 0)

    def test_nested_blocks_hand_back_only_at_the_outermost_exit(self):
        with frozen_heap():
            with frozen_heap():
                self.assertGreater(gc.get_freeze_count(), 0)
            self.assertGreater(gc.get_freeze_count(), 0)  # the outer block still runs
        self.assertEqual(gc.get_freeze_count(), 0)

    def test_handed_back_when_the_block_raises(self):
        with self.assertRaises(ValueError):
            with frozen_heap():
                raise ValueError("refused")
        self.assertEqual(gc.get_freeze_count(), 0)
        with frozen_heap():  # and the count is not left behind
            pass
        self.assertEqual(gc.get_freeze_count(), 0)

    def test_cycles_made_inside_are_still_collected(self):
        class Node:
            pass

        with frozen_heap():
            node = Node()
            node.self = node
            gone = weakref.ref(node)
            del node
            self.assertIsNotNone(gone())  # a cycle: reference counting alone does not free it
            gc.collect()
            self.assertIsNone(gone())

    def test_every_app_job_runs_inside(self):
        job = ContractsJob.__new__(ContractsJob)
        states = []
        record = lambda *args, **kwargs: states.append(gc.get_freeze_count())  # noqa: E731
        with mock.patch.object(Job, "__call__", side_effect=record):
            ContractsJob.__call__(job, as_of="2026-12-03")
        self.assertGreater(states[0], 0)  # Nautobot's run happened with the heap frozen
        self.assertEqual(gc.get_freeze_count(), 0)
